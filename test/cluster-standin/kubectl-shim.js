// The `kubectl` a replay puts on the runbook's PATH (test/cluster-standin/kubectl.ts writes the
// wrapper): it sends its arguments, and stdin when told to read it (`-f -`), to the stand-in
// cluster at $STANDIN_KUBE_URL and prints its answer. Plain JavaScript: a runbook makes a dozen
// calls, and a TypeScript loader on each would dominate a replay's time.
const http = require("node:http");

const argv = process.argv.slice(2);

function send(stdin) {
  const request = http.request(
    process.env.STANDIN_KUBE_URL,
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
    process.stderr.write(`the cluster stand-in is unreachable: ${error.message}\n`);
    process.exitCode = 1;
  });
  request.end(JSON.stringify({ argv, stdin }));
}

if (argv.includes("-")) {
  const chunks = [];
  process.stdin.on("data", (chunk) => chunks.push(chunk));
  process.stdin.on("end", () => send(Buffer.concat(chunks).toString("utf8")));
} else {
  send(undefined);
}
