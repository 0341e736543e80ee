-- A withdrawal proposal can be cancelled (CaseStore.cancel_withdrawal, review/withdrawal.py): a new
-- action in the audit log, and in the database too a cancelled proposal no longer lets a second officer
-- withdraw the case. Only the withdrawal rule of the four-eyes trigger changes; the rest is 0001's.

ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check
    CHECK (action IN ('drafted', 'submitted', 'approved', 'sent_back', 'published', 'withdrawal_proposed',
                      'withdrawal_cancelled', 'withdrawn', 'imported'));

CREATE OR REPLACE FUNCTION audit_events_four_eyes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    round_start bigint;
BEGIN
    SELECT coalesce(max(seq), 0) INTO round_start FROM audit_events
        WHERE case_id = NEW.case_id AND action IN ('published', 'withdrawn', 'imported');
    IF NEW.action = 'approved' AND EXISTS (
        SELECT 1 FROM audit_events WHERE case_id = NEW.case_id AND seq > round_start AND hash = NEW.hash
            AND action = 'drafted' AND audit_name(actor) = audit_name(NEW.actor)) THEN
        RAISE EXCEPTION 'four-eyes rule: % drafted this version of % and may not approve it', NEW.actor, NEW.case_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.action = 'published' AND NOT EXISTS (
        SELECT 1 FROM audit_events a WHERE a.case_id = NEW.case_id AND a.seq > round_start AND a.hash = NEW.hash
            AND a.action = 'approved' AND NOT EXISTS (
                SELECT 1 FROM audit_events d WHERE d.case_id = NEW.case_id AND d.seq > round_start
                    AND d.hash = NEW.hash AND d.action = 'drafted' AND audit_name(d.actor) = audit_name(a.actor))) THEN
        RAISE EXCEPTION 'four-eyes rule: this version of % has no approval by a second officer', NEW.case_id
            USING ERRCODE = 'check_violation';
    END IF;
    -- a proposal by another officer for this version, not cancelled since
    IF NEW.action = 'withdrawn' AND NOT EXISTS (
        SELECT 1 FROM audit_events p WHERE p.case_id = NEW.case_id AND p.seq > round_start AND p.hash = NEW.hash
            AND p.action = 'withdrawal_proposed' AND audit_name(p.actor) <> audit_name(NEW.actor) AND NOT EXISTS (
                SELECT 1 FROM audit_events c WHERE c.case_id = NEW.case_id AND c.seq > p.seq
                    AND c.action = 'withdrawal_cancelled')) THEN
        RAISE EXCEPTION 'four-eyes rule: the withdrawal of % was not proposed by another officer (or was cancelled)',
            NEW.case_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
