/** The app's contract against every layer, for the `staging` stack (cross-layer.ts). */
import { crossLayerTests } from "./cross-layer";

crossLayerTests("staging");
