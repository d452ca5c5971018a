"""An edge for people trying the bot: `alertbot demo` runs it beside a local Teams (the
Microsoft 365 Agents Playground). Nothing in the bot imports it but the CLI's demo command.

`processes` starts and stops the bot server as a child process, `playground` starts the
Playground and acts in it as its user (install the app, post a message, follow what
arrives), and `demo` puts them together for a person at a terminal. What only the
end-to-end tests need (pressing card buttons, finding actions) is in tests/support.
"""
