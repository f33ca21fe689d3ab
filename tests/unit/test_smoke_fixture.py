from sqlalchemy import Engine

from ledger import Account, Ledger, Transfer


def test_a_transfer_posts_on_every_database(engine: Engine) -> None:
    ledger = Ledger(engine)
    ledger.create_tables()
    with engine.begin() as conn:
        ledger.create_accounts(conn, [Account("a"), Account("b")])
        ledger.create_transfers(conn, [Transfer("t", "a", "b", 5)], 0)
    with engine.begin() as conn:
        assert ledger.check_invariants(conn).credits_posted == 5
