// The one thing the offline intake form needs of age: seal a report's
// identity and narrative to the server's recipient before the report rests
// in IndexedDB. Rebuild web/static/seal.js with `npm ci && npm run build`
// (web/sealjs/build.sh); a test checks that the bundle is current.
import { Encrypter } from "age-encryption";

export async function seal(recipient, text) {
  const e = new Encrypter();
  e.addRecipient(recipient);
  const sealed = await e.encrypt(text);
  let bin = "";
  for (let i = 0; i < sealed.length; i++) {
    bin += String.fromCharCode(sealed[i]);
  }
  return btoa(bin);
}
