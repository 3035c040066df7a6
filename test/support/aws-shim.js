// The `aws` a failover replay puts on the runbook's PATH (test/support/aws-standin.ts writes the
// wrapper): it sends its arguments, and stdin when a value is read from it (file:///dev/stdin), to
// the recording stand-in at $STANDIN_AWS_URL and prints its answer. Nothing reaches AWS.
const http = require("node:http");

const argv = process.argv.slice(2);

function send(stdin) {
  const request = http.request(
    process.env.STANDIN_AWS_URL,
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
    process.stderr.write(`the AWS stand-in is unreachable: ${error.message}\n`);
    process.exitCode = 255;
  });
  request.end(JSON.stringify({ argv, stdin }));
}

if (argv.includes("file:///dev/stdin")) {
  const chunks = [];
  process.stdin.on("data", (chunk) => chunks.push(chunk));
  process.stdin.on("end", () => send(Buffer.concat(chunks).toString("utf8")));
} else {
  send(undefined);
}
