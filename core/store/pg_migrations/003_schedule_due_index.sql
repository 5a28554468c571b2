-- Each schedule's next due instant, so a tick reads only the schedules that are due instead of all.
ALTER TABLE schedules ADD COLUMN next_due_at TIMESTAMPTZ;
CREATE INDEX schedules_due ON schedules (next_due_at) WHERE enabled;
