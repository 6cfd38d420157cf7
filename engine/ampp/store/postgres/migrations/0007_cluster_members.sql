-- 7: replicas sharing this database form a cluster (ampp.cluster, postgres/cluster.py).
--
-- Each replica keeps its row fresh (heartbeat_at, the database's clock); the live rows are the
-- cluster's members, and every aggregation group is flushed by one of them. started_at is the
-- start of the replica's current run (run_id), so a restarted replica joins anew.
--
-- The triggers tell every replica LISTENing on the channel which rows changed, at commit:
-- ampp_alerts carries "fingerprint updated_at_us updated_at_ns" (a replica skips what it holds
-- already, its own writes included), ampp_silences the silence id.

CREATE TABLE cluster_members (
    name TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    run_id TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    heartbeat_at TIMESTAMPTZ NOT NULL
);
COMMENT ON COLUMN cluster_members.name IS 'the replica: stable across its restarts, unique in the cluster';

CREATE FUNCTION ampp_alert_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('ampp_alerts', OLD.fingerprint || ' -');
        RETURN OLD;
    END IF;
    PERFORM pg_notify('ampp_alerts', NEW.fingerprint || ' '
        || round(EXTRACT(EPOCH FROM NEW.updated_at) * 1000000)::bigint || ' ' || NEW.updated_at_ns);
    RETURN NEW;
END $$;
CREATE TRIGGER alerts_changed AFTER INSERT OR UPDATE OR DELETE ON alerts
    FOR EACH ROW EXECUTE FUNCTION ampp_alert_changed();

CREATE FUNCTION ampp_silence_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('ampp_silences', OLD.id);
        RETURN OLD;
    END IF;
    PERFORM pg_notify('ampp_silences', NEW.id);
    RETURN NEW;
END $$;
CREATE TRIGGER silences_changed AFTER INSERT OR UPDATE OR DELETE ON silences
    FOR EACH ROW EXECUTE FUNCTION ampp_silence_changed();
