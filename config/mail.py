"""The email backend for EMAIL_URL=consolemail:// (the default): emails go to the log."""

import logging

from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger("config.mail")


class LogEmailBackend(BaseEmailBackend):
    """Logs each email as one record of the `config.mail` logger (INFO): the whole message,
    headers and body, as its text. With LOG_JSON that is one JSON line per email, where
    Django's console backend would print the raw message over many plain lines."""

    def send_messages(self, email_messages):
        for message in email_messages:
            logger.info("email not sent (EMAIL_URL is consolemail://):\n%s", message.message().as_string())
        return len(email_messages)
