"""Running the bot the way a person tries it: beside a local Teams (the Agents Playground).

`alertbot demo` (`make run`) and the end-to-end tests (tests/e2e) share these pieces:
`processes` starts and stops the bot server as a child process, `playground` starts the
Microsoft 365 Agents Playground and drives it through its HTTP and WebSocket routes, and
`demo` puts them together for a person at a terminal. Development tools only: nothing
in the bot imports them.
"""
