#!/bin/sh
# PgBouncer, reloaded when the kubelet updates its mounted configuration. The eren-pgbouncer
# Secret holds the RDS password, which RDS rotates every 7 days: a reload (SIGHUP) re-reads
# databases.ini and userlist.txt, and server connections opened after it use the new
# password, without restarting the pod. SIGTERM and SIGINT go to PgBouncer.
set -u
dir=${PGBOUNCER_CONFIG_DIR:-/etc/pgbouncer}
fingerprint() {
    cat "$dir/pgbouncer.ini" "$dir/pg_hba.conf" "$dir/databases.ini" "$dir/userlist.txt" | cksum
}
pgbouncer "$dir/pgbouncer.ini" &
child=$!
stop() {
    kill "-$1" "$child" 2>/dev/null
    wait "$child"
    exit $?
}
trap 'stop TERM' TERM
trap 'stop INT' INT
seen=$(fingerprint)
while kill -0 "$child" 2>/dev/null; do
    sleep 5 &
    wait $!
    now=$(fingerprint)
    if [ "$now" != "$seen" ]; then
        seen=$now
        echo "pgbouncer-run.sh: configuration changed, reloading PgBouncer"
        kill -HUP "$child"
    fi
done
wait "$child"
