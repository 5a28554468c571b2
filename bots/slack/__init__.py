"""Slack adapter: slack_bolt AsyncApp listeners (app), Block Kit rendering (blocks), HTTP/Socket Mode (server).

Importing this package pulls in slack_bolt; the CLI imports it only when Slack is configured.
"""

from bots.slack.app import SlackAdapter, build_slack_app, make_client
from bots.slack.server import run_slack

__all__ = ["SlackAdapter", "build_slack_app", "make_client", "run_slack"]
