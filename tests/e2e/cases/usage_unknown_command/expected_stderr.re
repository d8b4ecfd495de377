frobnicate|[Ss]ubcommand
