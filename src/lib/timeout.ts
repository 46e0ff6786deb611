// One race of work against a timer, so that no caller leaves a timer running after the work ends.

/** The work's result, or a rejection with `message` after `ms`; `onTimeout` runs first when time is up. */
export async function withinTimeout<T>(
  ms: number,
  message: string,
  work: Promise<T>,
  onTimeout?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(message));
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
