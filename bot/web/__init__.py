"""The website chat widget: rasa-webchat (npm, bot/web/node_modules) on a page served by server.py."""
