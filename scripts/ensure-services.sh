#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on the addresses the test suite uses; starts local
# installations that are stopped, and says exactly what to install when they are missing.
set -u
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
redis_port=${REDIS_PORT:-6379}

pg_up() { pg_isready -q -h "$pg_host" -p "$pg_port" 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG; }

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "PostgreSQL is not installed. Install it (Debian/Ubuntu: sudo apt-get install postgresql) or set DATABASE_URL." >&2
  exit 1
fi
if ! pg_up; then
  echo "Starting PostgreSQL…"
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null ||
        sudo -n pg_ctlcluster "$version" main start 2>/dev/null || true
    done
  fi
  for _ in $(seq 1 20); do pg_up && break; sleep 0.5; done
  pg_up || { echo "PostgreSQL does not answer on $pg_host:$pg_port. Start it, or set DATABASE_URL." >&2; exit 1; }
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "Redis is not installed. Install it (Debian/Ubuntu: sudo apt-get install redis-server) or set REDIS_URL." >&2
  exit 1
fi
if ! redis_up; then
  echo "Starting Redis…"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no >/dev/null
  for _ in $(seq 1 20); do redis_up && break; sleep 0.25; done
  redis_up || { echo "Redis does not answer on 127.0.0.1:$redis_port." >&2; exit 1; }
fi
echo "PostgreSQL and Redis are up."
