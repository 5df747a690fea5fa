#!/bin/sh
# Corpus test (tests/corpus/commands.tsv through `execguard check`); see test_corpus.py.
exec python3 "$(dirname "$0")/test_corpus.py" "$@"
