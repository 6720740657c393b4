"""What OAuth clients and API keys share: the rules every edge applies alike."""
