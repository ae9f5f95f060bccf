"""Running and operating the bot: the runner, the health server, the setup doctor, failures in one line."""
