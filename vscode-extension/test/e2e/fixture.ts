// The fixture workspace: a small git repository with two branches, built at test time.
// main (checked out): src/net/client.py and src/net/config.py; feature adds src/net/backoff.py.
// The regex retry_\w+ matches 5 times in 2 files on main and 8 times in 3 files on feature.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const mainFiles: Record<string, string> = {
  "README.md": "# shop-net\n\nUploads with retries.\n",
  "src/net/__init__.py": "",
  "src/net/client.py": `"""HTTP client with retries."""
import time

from .config import retry_limit


class UploadClient:
    def __init__(self, session):
        self.session = session

    def upload(self, path, data):
        for attempt in range(retry_limit()):
            response = self.session.put(path, data=data)
            if response.ok:
                return response
            time.sleep(retry_delay(attempt))
        raise RuntimeError("upload failed")


def retry_delay(attempt):
    return 0.5 * (2 ** attempt)
`,
  "src/net/config.py": `RETRIES = 3


def retry_limit():
    return RETRIES
`,
};

const featureFiles: Record<string, string> = {
  "src/net/backoff.py": `def retry_jitter(attempt, rng):
    return rng.random() * retry_cap(attempt)


def retry_cap(attempt):
    return min(30, 2 ** attempt)
`,
};

/** What the test expects to see for the regex on each branch. */
export const expected = {
  pattern: "retry_\\w+",
  main: { summary: "5 results in 2 files", files: { "client.py": 4, "config.py": 1 } },
  feature: { summary: "8 results in 3 files", files: { "backoff.py": 3, "client.py": 4, "config.py": 1 } },
  /** The match row clicked on main, and the 1-based line it must land on. */
  clickMain: { file: "src/net/client.py", line: 20 },
  /** The match clicked on feature: a file that exists only on that branch. */
  clickFeature: { file: "src/net/backoff.py", line: 5, text: "def retry_cap(attempt):" },
  symbol: { query: "UploadCl", name: "UploadClient" },
};

function write(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

export function buildFixture(root: string): void {
  mkdirSync(root, { recursive: true });
  const git = (...args: string[]) => execFileSync("git", args, {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, GIT_AUTHOR_NAME: "e2e", GIT_AUTHOR_EMAIL: "e2e@example.invalid", GIT_COMMITTER_NAME: "e2e", GIT_COMMITTER_EMAIL: "e2e@example.invalid" },
  });
  git("init", "-q", "-b", "main");
  write(root, mainFiles);
  git("add", "-A");
  git("commit", "-q", "-m", "main: upload client");
  git("checkout", "-q", "-b", "feature");
  write(root, featureFiles);
  git("add", "-A");
  git("commit", "-q", "-m", "feature: backoff with jitter");
  git("checkout", "-q", "main");
}
