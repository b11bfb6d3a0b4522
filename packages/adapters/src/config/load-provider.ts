import { AdapterError } from '../errors.js'

/** Message of a failed `import()`, when it is a missing module. */
function missingModule(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  const code = (error as { code?: unknown }).code
  if (
    code !== 'ERR_MODULE_NOT_FOUND' &&
    code !== 'MODULE_NOT_FOUND' &&
    !/Cannot find (package|module)/.test(error.message)
  ) {
    return undefined
  }
  return error.message
}

/**
 * Imports a provider module. Provider SDKs are optional peer dependencies: when one is missing the
 * error says which packages to install.
 *
 * @internal
 */
export async function loadProvider<T>(
  role: 'storage' | 'compute' | 'publish',
  provider: string,
  sdkPackages: readonly string[],
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load()
  } catch (error) {
    const message = missingModule(error)
    if (message === undefined) throw error
    const install = sdkPackages.filter((pkg) => message.includes(`'${pkg}'`) || message.includes(`"${pkg}"`))
    if (install.length === 0) {
      throw new AdapterError(
        'UNAVAILABLE',
        `The ${role} provider '${provider}' module of @edgerec/adapters could not be loaded: ${message}. Reinstall @edgerec/adapters.`,
        { cause: error },
      )
    }
    throw new AdapterError(
      'CONFIG_INVALID',
      `${role} provider '${provider}' needs ${install.join(' and ')}, which ${install.length > 1 ? 'are' : 'is'} not installed. ` +
        `Install ${install.length > 1 ? 'them' : 'it'}: npm install ${install.join(' ')}`,
      { cause: error },
    )
  }
}
