unknown dimension 'FOO'
