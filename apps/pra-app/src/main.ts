import { runCli } from "./cli";

// Exit explicitly once the command is done: a library's leftover handle (a metrics observer, an idle
// socket) must not keep a finished backup job or a stopped server alive.
void runCli(process.argv).then((code) => process.exit(code));
