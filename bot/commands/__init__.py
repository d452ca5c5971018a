"""Chat commands: the declarative registry, parsing, handlers and who may run them."""
