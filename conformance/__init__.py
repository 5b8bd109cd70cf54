"""Contract testing (Schemathesis fuzzing) and client certification."""
