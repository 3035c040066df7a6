// The `kubectl` or `aws` a replay puts on the runbook's PATH (test/support/standin-request.ts
// writes the wrapper, which passes the command's name first): it sends its arguments, and stdin
// when the command reads it, to the stand-in at the command's URL and prints its answer. Nothing
// reaches a cluster or AWS. Plain JavaScript: a runbook makes dozens of calls, and a TypeScript
// loader on each would dominate a replay's time.
const http = require("node:http");

const COMMANDS = {
  // `kubectl apply -f -` reads the manifest from stdin; kubectl exits 1 when it cannot connect.
  kubectl: { urlVariable: "STANDIN_KUBE_URL", readsStdin: "-", what: "cluster", unreachable: 1 },
  // The AWS CLI reads a value from stdin through file:///dev/stdin; it exits 255 on a failure.
  aws: {
    urlVariable: "STANDIN_AWS_URL",
    readsStdin: "file:///dev/stdin",
    what: "AWS",
    unreachable: 255,
  },
};

const [name, ...argv] = process.argv.slice(2);
const command = COMMANDS[name];

function send(stdin) {
  const request = http.request(
    process.env[command.urlVariable],
    { method: "POST", headers: { "content-type": "application/json" } },
    (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => {
        text += chunk;
      });
      response.on("end", () => {
        const reply = JSON.parse(text);
        process.stdout.write(reply.stdout);
        process.stderr.write(reply.stderr);
        process.exitCode = reply.code;
      });
    },
  );
  request.on("error", (error) => {
    process.stderr.write(`the ${command.what} stand-in is unreachable: ${error.message}\n`);
    process.exitCode = command.unreachable;
  });
  request.end(JSON.stringify({ argv, stdin }));
}

if (argv.includes(command.readsStdin)) {
  const chunks = [];
  process.stdin.on("data", (chunk) => chunks.push(chunk));
  process.stdin.on("end", () => send(Buffer.concat(chunks).toString("utf8")));
} else {
  send(undefined);
}
