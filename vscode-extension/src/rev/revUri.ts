// `codeloupe-rev:` URIs name a file as committed at a rev. The path starts with the rev so the
// editor tab says which version it shows, and ends with the file's name so the language is
// recognised; the query carries what `git show` needs.

export const REV_SCHEME = "codeloupe-rev";

export interface RevFile {
  /** A directory inside the repository, where git runs. */
  cwd: string;
  /** Branch, tag or commit. */
  rev: string;
  /** Path relative to the repository root, with "/". */
  path: string;
}

export interface UriParts {
  scheme: string;
  path: string;
  query: string;
}

export function revUriParts(f: RevFile): UriParts {
  return { scheme: REV_SCHEME, path: `/${f.rev}/${f.path}`, query: JSON.stringify(f) };
}

export function parseRevQuery(query: string): RevFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(query);
  } catch {
    throw new Error(`not a ${REV_SCHEME} URI query: ${query}`);
  }
  const f = parsed as Partial<RevFile>;
  if (typeof f.cwd !== "string" || typeof f.rev !== "string" || typeof f.path !== "string") {
    throw new Error(`incomplete ${REV_SCHEME} URI query: ${query}`);
  }
  if (f.rev.startsWith("-") || f.rev.length === 0) throw new Error(`invalid rev: ${f.rev}`);
  return { cwd: f.cwd, rev: f.rev, path: f.path };
}

/** The argument of `git show` for a file at a rev. */
export function gitShowSpec(f: RevFile): string {
  return `${f.rev}:${f.path}`;
}
