unknown granularity 'WEEKLY'
