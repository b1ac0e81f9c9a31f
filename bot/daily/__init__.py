"""Daily reflections: each server's schedule, the passage of the day, exactly-once posting,
the scheduler loop, the /daily commands and their cog."""
