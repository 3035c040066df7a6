/**
 * What a stand-in's command shim (test/cluster-standin/kubectl-shim.js, test/support/aws-shim.js)
 * posts: the command's arguments, and its standard input when it reads one. Shared by the
 * cluster stand-in's and the AWS stand-in's servers.
 */
export interface ShimRequest {
  readonly argv: string[];
  readonly stdin?: string;
}

export function parseShimRequest(body: string): ShimRequest {
  const parsed: unknown = JSON.parse(body);
  const argv =
    typeof parsed === "object" && parsed !== null && "argv" in parsed && Array.isArray(parsed.argv)
      ? parsed.argv.filter((a): a is string => typeof a === "string")
      : [];
  const stdin =
    typeof parsed === "object" &&
    parsed !== null &&
    "stdin" in parsed &&
    typeof parsed.stdin === "string"
      ? parsed.stdin
      : undefined;
  return stdin === undefined ? { argv } : { argv, stdin };
}
