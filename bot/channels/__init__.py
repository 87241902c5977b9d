"""Our subclasses of Rasa's channel connectors, named by module path in credentials.yml."""
