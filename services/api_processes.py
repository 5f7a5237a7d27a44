"""Several API processes on one port, each with a listening socket of its own (``SO_REUSEPORT``).

uvicorn's ``--workers`` binds one socket in the parent and shares it. Every process then waits on
that one socket, and asyncio accepts every connection waiting at once: a burst of new connections
(a proxy or a client pool starting) all land in the process that woke first, and stay there for
as long as they are kept alive. Measured with ``make soak`` at 300 commands/s over 64 connections
on ``api --workers 2``: one process served everything (0.70 of a core) while the other idled,
and latency grew to 40 s. With a socket per process the kernel spreads new connections over the
processes by their address, whatever their timing.

Each process binds its own socket when it starts, so a process that dies takes its socket with
it and no connection waits on a socket nobody accepts from. uvicorn's supervisor still starts,
health-checks, restarts and stops the processes.
"""

from __future__ import annotations

import logging
import socket

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` that other processes may bind as well."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


logger = logging.getLogger("uvicorn.error")


class OwnSocketProcess(Process):
    """An API process that binds its own listening socket when it starts."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover
        super().target([reuse_port_socket(self.config.host, self.config.port)])


class ApiProcesses(Multiprocess):
    """uvicorn's supervisor of ``config.workers`` processes, each with a socket of its own."""

    def __init__(self, config: Config) -> None:
        super().__init__(config, sockets=[])

    def init_processes(self) -> None:
        for _ in range(self.processes_num):
            process = OwnSocketProcess(self.config, [])
            process.start()
            self.processes.append(process)

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # Its app or socket is broken and would fail the same way again.
                logger.error("API process [%s] failed to start; stopping", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.warning(
                "API process [%s] died (exit code %s); starting another",
                process.pid,
                process.exitcode,
            )
            replacement = OwnSocketProcess(self.config, [])
            replacement.start()
            self.processes[index] = replacement

    def handle_ttin(self) -> None:
        """One more process (on ``SIGTTIN``), with a socket of its own as the others."""
        logger.info("Received SIGTTIN, starting one more process.")
        self.processes_num += 1
        process = OwnSocketProcess(self.config, [])
        process.start()
        self.processes.append(process)

    def restart_all(self) -> None:
        """Replaces each process in turn (on ``SIGHUP``)."""
        for index, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            replacement = OwnSocketProcess(self.config, [])
            replacement.start()
            old.terminate()
            old.join()
            self.processes[index] = replacement


def run_api_processes(config: Config) -> None:
    """Serves ``config``'s app from ``config.workers`` processes until told to stop."""
    # The port is checked here without SO_REUSEPORT, so that a port already in use (by another
    # workledger too) fails at once with a clear error rather than being shared with it.
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((config.host, config.port))
    ApiProcesses(config).run()
