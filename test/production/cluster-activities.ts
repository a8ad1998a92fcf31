// The activity of the production-cluster test's workflows.

/** `Hello, <name>!` */
export async function greet(name: string): Promise<string> {
  return `Hello, ${name}!`;
}
