ok [A-Z_]+ 7 days; 2 months
