// The only JavaScript the viewer takes from npm: a stock Yjs and the stock Hocuspocus provider.
export * as Y from "yjs";
export { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";
