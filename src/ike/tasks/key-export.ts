// Its own module so the IKE_SA_INIT, IKE_INTERMEDIATE and rekey tasks can all export keys without importing each other.
import type { EndpointContext } from '../context.js';
import type { IkeSa } from '../ike-sa.js';

/** Key export for capture decryption (settings.exportKeys), like strongSwan's save-keys plugin. */
export function emitKeys(ctx: EndpointContext, sa: IkeSa): void {
  const raw = sa.keys?.raw;
  if (!raw || !sa.set) return;
  ctx.emit({
    type: 'ike-keys',
    sa: sa.info(),
    encrId: sa.set.encr,
    ...(sa.set.keyBits !== undefined ? { encrKeyBits: sa.set.keyBits } : {}),
    ...(sa.set.integ !== undefined ? { integId: sa.set.integ } : {}),
    ...raw,
  });
}
