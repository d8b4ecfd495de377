bad\.jsonl:2:\d+: 
