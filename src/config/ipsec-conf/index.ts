/** strongSwan's legacy ipsec.conf / ipsec.secrets, read and converted to swanctl.conf (`cygnet import`). */
export { convertIpsecConf, swanctlValue, type ImportNote, type ImportOptions, type ImportResult } from './convert.js';
export { readIpsecConf, resolveSection, type IpsecConf, type IpsecSection, type IpsecSetting } from './reader.js';
export { readIpsecSecrets, type IpsecSecret, type SecretType } from './secrets.js';
