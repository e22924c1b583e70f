"""Questions for generated gold sets, written by the configured LLM from the code itself."""

from __future__ import annotations

from dataclasses import replace

from indexer.eval.goldgen import QuestionMaker, Sampled

PROMPT = ("You write search queries for a code search benchmark. Given a piece of code, write "
          "the one question or search a developer would type when looking for it, in plain "
          "words, without quoting its function, class or variable names. Answer with the "
          "question only, on one line.")
MAX_CODE_LINES = 60


def llm_question_maker(settings, provider_name: str) -> QuestionMaker:  # noqa: ANN001
    from indexer.gloss.providers import make_provider
    from indexer.retrieval.llm_rerank import chat_text

    provider = make_provider(replace(settings, gloss_provider=provider_name))

    def make(sample: Sampled, source: str) -> str | None:
        code = source.encode()[sample.start_byte:sample.end_byte].decode("utf-8", "replace")
        code = "\n".join(code.splitlines()[:MAX_CODE_LINES])
        messages = [{"role": "system", "content": PROMPT},
                    {"role": "user", "content": f"```\n{code}\n```"}]
        try:
            answer = chat_text(provider, messages)
        except Exception:  # noqa: BLE001 - one failed question is skipped, not fatal
            return None
        line = answer.strip().splitlines()[0].strip().strip('"') if answer.strip() else ""
        return line or None

    return make
