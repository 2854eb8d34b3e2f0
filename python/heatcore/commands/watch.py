"""`heatcore watch`: the ingestion service (Kafka + Kerberos Vault, or a folder)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

_EPILOG = """\
examples:
  heatcore watch --folder /recordings --config job.yaml -o out/
  heatcore watch --kafka broker:9092 --topic kcloud-event-queue --group heatcore \\
                 --vault http://vault:8081 --config job.yaml -o out/
  heatcore watch --status out/

Vault credentials: HEATCORE_VAULT_ACCESS_KEY / HEATCORE_VAULT_SECRET_KEY, or a settings file
(HEATCORE_VAULT_SETTINGS or vault.settings in the job YAML) - never on the command line.
SIGTERM / SIGINT: the current recording is finished, outputs are written, exit status 0.
"""


def _option(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--kafka-option must be NAME=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    return k.strip(), v.strip()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("watch", help="keep heatmaps per camera up to date from Kafka + Kerberos Vault or a folder",
                       description="Runs as a service: every new recording (announced on Kafka and downloaded "
                       "from Kerberos Vault, or dropped in a folder) is processed once and merged into its "
                       "camera's heatmap for its time slice; a ledger makes every recording count exactly once "
                       "across crashes and redeliveries.",
                       epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--kafka", metavar="BOOTSTRAP", help="Kafka bootstrap servers (host:port[,host:port])")
    src.add_argument("--folder", type=Path, metavar="DIR", help="watch this folder for new video files")
    src.add_argument("--status", type=Path, metavar="OUT", help="print the status of the watcher writing OUT and exit")
    p.add_argument("--topic", help="Kafka topic of the Vault messages")
    p.add_argument("--group", default="heatcore", help="Kafka consumer group (default heatcore)")
    p.add_argument("--vault", metavar="URL", help="Kerberos Vault URL (e.g. http://vault:8081)")
    p.add_argument("--config", type=Path, help="job configuration (YAML); default: motion heatmaps (MOG)")
    p.add_argument("-o", "--output", "--out", dest="out", type=Path, help="output folder (ledger, status, heatmaps)")
    p.add_argument("--poll", type=float, default=1.0, help="folder mode: seconds between scans (default 1)")
    p.add_argument("--idle-exit", type=float, default=None, metavar="S",
                   help="exit after S seconds without new recordings (batch runs, tests)")
    p.add_argument("--kafka-option", type=_option, action="append", default=[], metavar="NAME=VALUE",
                   help="extra librdkafka consumer setting (repeatable)")
    p.add_argument("--quiet", action="store_true", help="print nothing per recording")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import ingest

    if args.status is not None:
        path = args.status / "status.json" if args.status.is_dir() else args.status
        if not path.is_file():
            raise FileNotFoundError(f"no status file: {path}")
        print(json.dumps(ingest.read_status(path), indent=1, sort_keys=True))
        return 0
    if args.kafka is None and args.folder is None:
        raise ValueError("give --kafka BOOTSTRAP --topic T --vault URL, or --folder DIR")
    if args.kafka is not None and not args.topic:
        raise ValueError("--kafka needs --topic")
    if args.poll <= 0:
        raise ValueError(f"--poll must be positive, got {args.poll}")
    if not args.quiet:
        logging.basicConfig(level=logging.WARNING, format="heatcore watch: %(message)s", stream=sys.stderr)
    w = ingest.watch(folder=args.folder, kafka=args.kafka, topic=args.topic, group=args.group, vault=args.vault,
                     config=args.config, output=args.out, quiet=args.quiet, poll=args.poll, idle_exit=args.idle_exit,
                     kafka_options=dict(args.kafka_option))
    if not args.quiet:
        d = w.status.data
        print(f"heatcore watch: {d['processed']} processed, {d['skipped_duplicates']} duplicates skipped, "
              f"{len(d['failed'])} failed, {len(d['retry'])} parked for retry")
    return 0
