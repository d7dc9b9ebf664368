"""Complete appliances built from the runtime's buses and components (first: the HelloWorld V3 server)."""
