"""pymap's command line, as the mail double's IMAP process runs it: the same server, with
the mailbox password hashed in one PBKDF2 round instead of pymap's 500,000.

pymap checks the password at every login against that hash, about 0.13 s of CPU each, and
the tests and the sandbox log in hundreds of times (every poll, every seeded or cleared
mailbox): pymap cost more CPU than any other process of a test run but the test workers.
The password is still checked at every login; only its hash's work factor is lower, as
fits a throwaway mailbox whose password is written in the source.

Run by its path (``python mail_double/imap_process.py [pymap's arguments]``), so it needs
nothing of the project on the module path.
"""

from __future__ import annotations

from pymap.config import IMAPConfig
from pymap.main import main
from pysasl.hashing import BuiltinHash, HashInterface


def one_round(_cls: type[IMAPConfig], _passlib_cfg: str | None) -> HashInterface:
    return BuiltinHash(rounds=1)


if __name__ == "__main__":
    # pymap (without passlib installed) takes its hash from this hook and offers no option for it.
    IMAPConfig._get_hash_context = classmethod(one_round)  # type: ignore[method-assign,assignment]
    main()
