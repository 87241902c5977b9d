"""What the developers run, not the assistant: throw-away servers and the several-server set-up
for the tests and the benchmark, and the reports of `make eval` and `make nlu-report`."""
