#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: jellyfin_setup
short_description: Take Jellyfin from a fresh install to a configured server (startup wizard, admin, libraries)
version_added: 0.1.0
description:
  - On a server whose startup wizard has not run (C(StartupWizardCompleted) false in C(/System/Info/Public)), runs
    the wizard through its API - UI culture and metadata country/language (C(/Startup/Configuration)), the first
    user as administrator with O(admin_password) (C(GET) then C(POST /Startup/User), because Jellyfin 10.10 creates
    the first user lazily on the C(GET)), remote access (C(/Startup/RemoteAccess)) - and completes it
    (C(/Startup/Complete)).
  - Then, and on every later run, logs in as O(admin_username) (C(/Users/AuthenticateByName)), makes the server
    name, UI culture and metadata country/language in C(/System/Configuration) match, and adds the libraries of
    O(libraries) that are missing, or the paths missing from an existing library (C(/Library/VirtualFolders),
    C(/Library/VirtualFolders/Paths)).
  - Additive only. A library or a path that is not in O(libraries) (one added in the dashboard) is never removed or
    changed, and no library is ever deleted.
  - The same settings again make no write call; the login (a C(POST)) is the only request that is not a read.
  - Waits, within O(wait_timeout), while Jellyfin is still starting (connection refused, HTTP 502/503/504).
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.app_api
attributes:
  check_mode:
    description:
      - Reports what would change and writes nothing. It logs in on a server whose wizard is complete (which
        changes no setting).
      - On a server whose wizard has not run it cannot log in yet, so it reports every library of O(libraries) as
        to be created; it does not call C(GET /Startup/User), which creates the first user.
  diff_mode:
    description: Returns the wizard state, the managed settings and the managed libraries before and after; the
      password is never shown.
options:
  admin_username:
    description: Name of the administrator the wizard creates, and the user the module logs in as afterwards.
    type: str
    default: admin
  admin_password:
    description:
      - Password of O(admin_username). Set by the wizard; afterwards only used to log in (the module does not
        change a password). A refused login fails and says so.
    type: str
    required: true
  server_name:
    description: The server's name shown to clients. Unset leaves it alone (Jellyfin then uses the pod's host name).
    type: str
  ui_culture:
    description: Language of the server's UI and messages (C(UICulture)), such as C(en-US) or C(de-DE).
    type: str
    default: en-US
  metadata_country_code:
    description: Country used for metadata such as ratings and release dates (C(MetadataCountryCode)), such as C(US).
    type: str
    default: US
  preferred_metadata_language:
    description: Preferred language of metadata (C(PreferredMetadataLanguage)), such as C(en).
    type: str
    default: en
  enable_remote_access:
    description:
      - Allow connections from outside the local networks (wizard step "remote access").
      - Applied when the wizard runs only; later changes belong to Dashboard > Networking.
    type: bool
    default: true
  enable_automatic_port_mapping:
    description: UPnP port mapping on the router (wizard step "remote access"); pointless inside Kubernetes.
    type: bool
    default: false
  libraries:
    description:
      - Libraries that must exist, by name (compared case-insensitively), with their content type and folders as
        Jellyfin sees them (inside its container).
      - A missing library is created with all its paths; a missing path is added to the existing library alone.
    type: list
    elements: dict
    default:
      - {name: Movies, type: movies, paths: [/data/media/movies]}
      - {name: Shows, type: tvshows, paths: [/data/media/tv]}
    suboptions:
      name:
        description: Library name shown to users.
        type: str
        required: true
      type:
        description: Content type (Jellyfin's C(CollectionTypeOptions)); Jellyfin cannot change it later.
        type: str
        required: true
        choices: [movies, tvshows, music, musicvideos, homevideos, boxsets, books, mixed]
      paths:
        description: Folders of the library; they must exist in the Jellyfin container.
        type: list
        elements: str
        required: true
  refresh_library:
    description: Scan a library after it was created or got a new path.
    type: bool
    default: true
notes:
  - Written against Jellyfin 10.10 (the API of the C(@jellyfin/sdk) 0.11.0 models). Jellyfin 10.10's wizard has no
    server name field, so the name is set through C(/System/Configuration) after the wizard.
  - Jellyfin disables an administrator after 5 failed logins in a row; the module logs in once per run.
"""

EXAMPLES = r"""
- name: Jellyfin has its admin and the two libraries on /data
  homelab.mediacluster.jellyfin_setup:
    url: http://10.43.12.10:8096
    admin_username: admin
    admin_password: "{{ jellyfin_admin_password }}"
    server_name: media
    libraries:
      - {name: Movies, type: movies, paths: [/data/media/movies]}
      - {name: Shows, type: tvshows, paths: [/data/media/tv]}
  no_log: true
"""

RETURN = r"""
wizard_completed:
  description: Whether this run completed (or in check mode would complete) the startup wizard.
  returned: always
  type: bool
  sample: false
changed_settings:
  description: Names of the C(/System/Configuration) settings that differed.
  returned: always
  type: list
  elements: str
  sample: [ServerName]
libraries_created:
  description: Libraries that were (or in check mode would be) created.
  returned: always
  type: list
  elements: str
  sample: [Movies]
paths_added:
  description: Paths that were (or would be) added to an existing library, as C(library:path).
  returned: always
  type: list
  elements: str
  sample: ["Movies:/data/media/4k"]
user_id:
  description: Id of the administrator the module logged in as (null in check mode before the wizard ran).
  returned: always
  type: str
  sample: 4f1c0f3e2b8a4b8f9d7c2e1a0b3c4d5e
retries:
  description: How many times the module waited for Jellyfin to become ready.
  returned: always
  type: int
  sample: 0
"""


from ansible_collections.homelab.mediacluster.plugins.module_utils.app_api import (
    MediaApiError,
    media_module,
    normalize_path,
)
from ansible_collections.homelab.mediacluster.plugins.module_utils.jellyfin import (
    COLLECTION_TYPES,
    JellyfinClient,
    library_view,
    plan_libraries,
)

DEFAULT_LIBRARIES = [
    {'name': 'Movies', 'type': 'movies', 'paths': ['/data/media/movies']},
    {'name': 'Shows', 'type': 'tvshows', 'paths': ['/data/media/tv']},
]


def wanted_settings(params):
    settings = {'UICulture': params['ui_culture'], 'MetadataCountryCode': params['metadata_country_code'],
                'PreferredMetadataLanguage': params['preferred_metadata_language']}
    if params['server_name'] is not None:
        settings['ServerName'] = params['server_name']
    return settings


def check_libraries(libraries):
    seen = set()
    for library in libraries:
        if not library['name'].strip():
            raise MediaApiError('libraries: a library has an empty name')
        if library['name'].lower() in seen:
            raise MediaApiError('libraries: {0!r} is listed twice (names compare case-insensitively)'.format(
                library['name']))
        seen.add(library['name'].lower())
        if not library['paths'] or any(not (p or '').startswith('/') for p in library['paths']):
            raise MediaApiError('libraries: {0!r} needs at least one absolute path, got {1!r}'.format(
                library['name'], library['paths']))


def run_wizard(client, params, check_mode):
    """The startup wizard's steps, in the web wizard's order; returns the wizard's settings as they were."""
    startup = client.call('GET', '/Startup/Configuration') or {}
    wizard = dict((k, v) for k, v in wanted_settings(params).items() if k != 'ServerName')
    changed = sorted(k for k, v in wizard.items() if startup.get(k) != v)
    if check_mode:
        return startup
    if changed:
        client.call('POST', '/Startup/Configuration', body=wizard)
    # 10.10 creates the first user on this GET; POST /Startup/User fails on a server without users.
    client.call('GET', '/Startup/User')
    client.call('POST', '/Startup/User', body={'Name': params['admin_username'], 'Password': params['admin_password']})
    client.call('POST', '/Startup/RemoteAccess', body={
        'EnableRemoteAccess': params['enable_remote_access'],
        'EnableAutomaticPortMapping': params['enable_automatic_port_mapping']})
    client.call('POST', '/Startup/Complete')
    return startup


def run(module):
    params = module.params
    if not params['admin_password'] or not params['admin_username']:
        raise MediaApiError('admin_username and admin_password must not be empty: Jellyfin\'s wizard refuses an '
                            'empty password; give one (the media_stack role generates it when '
                            'media_stack_jellyfin_admin_password is empty)')
    check_libraries(params['libraries'])
    client = JellyfinClient(params)
    info = client.public_info()
    wizard_done = bool(info.get('StartupWizardCompleted'))
    result = dict(changed=False, wizard_completed=False, changed_settings=[], libraries_created=[], paths_added=[],
                  user_id=None)
    before = {'wizard_completed': wizard_done}
    after = {'wizard_completed': True}

    startup = {}
    if not wizard_done:
        result.update(changed=True, wizard_completed=True)
        startup = run_wizard(client, params, module.check_mode)
        after['admin'] = params['admin_username']

    settings = wanted_settings(params)
    if wizard_done or not module.check_mode:
        client.login(params['admin_username'], params['admin_password'])
        result['user_id'] = client.user.get('Id')
        config = client.call('GET', '/System/Configuration') or {}
        folders = client.call('GET', '/Library/VirtualFolders') or []
    else:
        # check mode before the wizard: nothing to log in with yet; the settings are the wizard's answers
        config = {}
        folders = []

    differing = sorted(k for k, v in settings.items() if config.get(k) != v)
    # what the settings were before this run: the wizard's answers when the wizard ran
    shown = dict(config, **startup)
    before['settings'] = dict((k, shown.get(k)) for k in settings if shown.get(k) != settings[k] or k in differing)
    after['settings'] = dict((k, settings[k]) for k in before['settings'])
    create, add_paths = plan_libraries(folders, params['libraries'])
    touched = set(lib['name'].lower() for lib in create) | set(name.lower() for name, _path in add_paths)
    before['libraries'] = dict((f.get('Name'), library_view(f)) for f in folders
                               if (f.get('Name') or '').lower() in touched)
    after['libraries'] = dict((name, dict(view, paths=list(view['paths'])))
                              for name, view in before['libraries'].items())
    for library in create:
        after['libraries'][library['name']] = {'type': library['type'], 'paths': library['paths']}
    for name, path in add_paths:
        after['libraries'][name]['paths'].append(path)

    result['changed_settings'] = sorted(before['settings'])
    result['libraries_created'] = [lib['name'] for lib in create]
    result['paths_added'] = ['{0}:{1}'.format(name, path) for name, path in add_paths]
    if differing or create or add_paths:
        result['changed'] = True

    if not module.check_mode:
        if differing:
            config.update(dict((k, settings[k]) for k in differing))
            client.call('POST', '/System/Configuration', body=config)
        refresh = 'true' if params['refresh_library'] else 'false'
        for library in create:
            client.call('POST', '/Library/VirtualFolders',
                        query={'name': library['name'], 'collectionType': library['type'], 'refreshLibrary': refresh},
                        body={'LibraryOptions': {'PathInfos': [{'Path': p} for p in library['paths']]}})
        for name, path in add_paths:
            client.call('POST', '/Library/VirtualFolders/Paths', query={'refreshLibrary': refresh},
                        body={'Name': name, 'PathInfo': {'Path': normalize_path(path)}})

    if module._diff and result['changed']:
        result['diff'] = dict(before=before, after=after)
    result['retries'] = client.retries
    return result


BODY = media_module(dict(
    admin_username=dict(type='str', default='admin'),
    admin_password=dict(type='str', required=True, no_log=True),
    server_name=dict(type='str'),
    ui_culture=dict(type='str', default='en-US'),
    metadata_country_code=dict(type='str', default='US'),
    preferred_metadata_language=dict(type='str', default='en'),
    enable_remote_access=dict(type='bool', default=True),
    enable_automatic_port_mapping=dict(type='bool', default=False),
    libraries=dict(type='list', elements='dict', default=DEFAULT_LIBRARIES, options=dict(
        name=dict(type='str', required=True),
        type=dict(type='str', required=True, choices=list(COLLECTION_TYPES)),
        paths=dict(type='list', elements='str', required=True),
    )),
    refresh_library=dict(type='bool', default=True),
), run, lambda p: 'Jellyfin setup')


def main():
    BODY.main()


if __name__ == '__main__':
    main()
