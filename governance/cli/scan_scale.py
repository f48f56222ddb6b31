"""The options of ``governance scan`` that go past one machine's listing: S3 Inventory and organisation fan-out.

``--inventory MANIFEST`` answers the object checks from S3 Inventory deliveries; ``--accounts ORG|ID,...
--role NAME`` runs the scan in every account of an organisation (or the accounts listed), assuming the role.
"""

from __future__ import annotations

import argparse

from governance.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    inventory = parser.add_argument_group("object-level checks from S3 Inventory")
    inventory.add_argument("--inventory", action="append", default=[], metavar="MANIFEST",
                           help="an S3 Inventory manifest.json (local or s3://); its objects are the targets "
                                "(repeatable)")
    inventory.add_argument("--engine", choices=("duckdb", "athena"), default="duckdb",
                           help="where the inventory query runs (default duckdb, in this process)")
    inventory.add_argument("--list-newer", action="store_true",
                           help="also list each source bucket and HeadObject the objects written since the delivery")
    inventory.add_argument("--athena-database", metavar="DB", help="with --engine athena: the inventory table's "
                                                                   "database")
    inventory.add_argument("--athena-table", metavar="TABLE", help="with --engine athena: the inventory table")
    inventory.add_argument("--athena-workgroup", metavar="NAME", default="primary",
                           help="with --engine athena: the workgroup (default primary)")
    inventory.add_argument("--athena-output", metavar="S3_URI",
                           help="with --engine athena: the query result location (default: the workgroup's)")
    fanout = parser.add_argument_group("organisation-wide")
    fanout.add_argument("--accounts", metavar="ORG|ID,ID...",
                        help="ORG: every active account of the organisation; or account ids, comma-separated")
    fanout.add_argument("--role", metavar="NAME", help="with --accounts: the read-only role to assume in each")
    fanout.add_argument("--regions", metavar="R,R...", help="with --accounts: regions to scan (default: the "
                                                             "current one)")
    fanout.add_argument("--max-accounts-in-flight", type=int, default=4, metavar="N",
                        help="with --accounts: accounts scanned at once (default 4)")


def wanted(args: argparse.Namespace) -> str | None:
    """Which scale-out mode the call asks for (``inventory``, ``accounts``), refusing mixed or partial calls."""
    if args.inventory and args.accounts:
        raise InputError("BAD_PARAMETER", "--inventory and --accounts cannot be combined")
    if (args.inventory or args.accounts) and args.state:
        raise InputError("BAD_PARAMETER", "--state applies to plain TARGET scans, not --inventory or --accounts")
    if args.inventory:
        if args.targets:
            raise InputError("BAD_PARAMETER", "with --inventory the inventory's objects are the targets: give no "
                                              "TARGET (use --list-newer for objects written since the delivery)")
        return "inventory"
    if args.engine != "duckdb" or args.list_newer:
        raise InputError("BAD_PARAMETER", "--engine and --list-newer apply to --inventory scans")
    if args.accounts:
        if not args.role:
            raise InputError("BAD_PARAMETER", "--accounts needs --role NAME (the role to assume in each account)")
        if not args.targets:
            raise InputError("BAD_PARAMETER", "--accounts needs TARGETs to scan in each account")
        if args.max_accounts_in_flight < 1:
            raise InputError("BAD_PARAMETER", "--max-accounts-in-flight must be at least 1")
        return "accounts"
    if args.role or args.regions:
        raise InputError("BAD_PARAMETER", "--role and --regions apply to --accounts scans")
    if not args.targets:
        raise InputError("BAD_CALL", "scan: give at least one TARGET, or --discover, --inventory MANIFEST or "
                                     "--accounts")
    return None


def run(mode: str, args: argparse.Namespace, bundle, state, progress=None):
    """Run the scale-out scan ``mode`` and return its :class:`~governance.policy.ScanResult`."""
    if mode == "inventory":
        from governance.policy.inventory import AthenaSettings, scan_inventory

        athena = None
        if args.engine == "athena":
            if not args.athena_database or not args.athena_table:
                raise InputError("BAD_PARAMETER", "--engine athena needs --athena-database and --athena-table")
            athena = AthenaSettings(args.athena_database, args.athena_table, args.athena_workgroup,
                                    args.athena_output)
        return scan_inventory(args.inventory, bundle=bundle, engine=args.engine, athena=athena,
                              ignore_waivers=args.ignore_waivers, list_newer=args.list_newer, workers=args.workers,
                              progress=progress)
    from governance.policy.fanout import scan_accounts

    return scan_accounts(args.targets, args.accounts, args.role, bundle=bundle,
                         regions=[r for r in (args.regions or "").split(",") if r] or None,
                         max_in_flight=args.max_accounts_in_flight, ignore_waivers=args.ignore_waivers,
                         workers=args.workers, progress=progress)
