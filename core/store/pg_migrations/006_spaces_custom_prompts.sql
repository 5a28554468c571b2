-- Facilitators and channel limits per space, a poll duration and "members may post" per channel,
-- and the questions facilitators type in chat. No table here holds a vote.

-- NULL: the bot's default duration. Whole seconds.
ALTER TABLE channel_settings ADD COLUMN poll_duration_s INTEGER CHECK (poll_duration_s > 0);
ALTER TABLE channel_settings ADD COLUMN members_post BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE space_settings (
    space_id TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('facilitator_role', 'facilitator', 'channel')),
    value    TEXT NOT NULL,
    PRIMARY KEY (space_id, kind, value)
);

-- A facilitator's own question; its prompt id is 'custom-<id>'. A sequence never hands out an id
-- twice, so an id kept by polls can never name a different question later. No author is stored.
CREATE TABLE custom_prompts (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    space_id   TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    question   TEXT NOT NULL,
    options    TEXT NOT NULL,  -- JSON list of {id, label, emoji, meaning, lean}
    uses_scale BOOLEAN NOT NULL,
    low_means  TEXT NOT NULL DEFAULT '',
    high_means TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX custom_prompts_by_space ON custom_prompts (space_id);
