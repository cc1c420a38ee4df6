"""Project-wide infrastructure below every stage (data <- model <- hls <- bench all import it,
it imports none of them): the error base and its exit-code wrapper, the YAML config schema,
the JSON-file checks, and the names of the build tree."""
