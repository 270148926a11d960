// Owns the local profiles (SPEC.md §9.2): `conf` in the platform config dir (XDG_CONFIG_HOME
// honoured), the directory 0700 and the file 0600 — conf creates its folder 0755, so both are
// fixed here. A profile holds a server URL and, optionally, a token.

import { chmodSync, mkdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import Conf from 'conf'

export interface Profile {
  readonly server?: string
  readonly token?: string
}

interface ProfilesFile {
  currentProfile?: string
  profiles: Record<string, Profile>
}

export interface ProfileStore {
  /** The config file, for `whoami` and `profile list`. */
  readonly path: string
  currentName(): string | undefined
  get(name: string): Profile | undefined
  list(): Array<[string, Profile]>
  save(name: string, profile: Profile): void
  use(name: string): void
  remove(name: string): boolean
}

export function configDir(env: Readonly<Record<string, string | undefined>>): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config')
  return join(base, 'konnect-audit')
}

export function openProfileStore(env: Readonly<Record<string, string | undefined>>): ProfileStore {
  const dir = configDir(env)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
  const conf = new Conf<ProfilesFile>({
    projectName: 'konnect-audit',
    projectSuffix: '',
    cwd: dir,
    configName: 'config',
    configFileMode: 0o600,
    defaults: { profiles: {} },
  })
  const write = (update: (file: ProfilesFile) => void) => {
    const current = conf.get('currentProfile')
    const file: ProfilesFile = {
      ...(current === undefined ? {} : { currentProfile: current }),
      profiles: { ...conf.get('profiles') },
    }
    update(file)
    conf.store = file
    chmodSync(conf.path, 0o600)
  }
  return {
    path: conf.path,
    currentName: () => conf.get('currentProfile'),
    get: (name) => conf.get('profiles')[name],
    list: () => Object.entries(conf.get('profiles')).sort(([a], [b]) => a.localeCompare(b)),
    save: (name, profile) =>
      write((file) => {
        file.profiles[name] = profile
      }),
    use: (name) =>
      write((file) => {
        file.currentProfile = name
      }),
    remove: (name) => {
      if (!(name in conf.get('profiles'))) return false
      write((file) => {
        delete file.profiles[name]
        if (file.currentProfile === name) delete file.currentProfile
      })
      return true
    },
  }
}
