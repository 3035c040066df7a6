/** The app's contract against every layer, for the `prod` stack (cross-layer.ts). */
import { crossLayerTests } from "./cross-layer";

crossLayerTests("prod");
