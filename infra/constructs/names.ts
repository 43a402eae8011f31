/** `scanner` -> `Scanner`: job names as parts of construct ids and alarm names. */
export function pascalCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
