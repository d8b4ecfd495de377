^sagebox: .*/export\.csv:3:176: expected a timestamp
