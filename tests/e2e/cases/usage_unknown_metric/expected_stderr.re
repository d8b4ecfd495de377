unknown metric 'Foo'
