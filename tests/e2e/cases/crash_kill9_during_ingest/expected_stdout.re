^crash test passed: 
