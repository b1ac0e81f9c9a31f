-- /daily set card:true attaches the day's quote card to the post.
ALTER TABLE daily_schedules ADD COLUMN card INTEGER NOT NULL DEFAULT 0;
