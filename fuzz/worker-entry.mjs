// Worker threads start without the tsx loader the main thread registered with `--import tsx`,
// and Node refuses a .ts entry before any loader runs: register tsx here, then load the worker.
import {register} from 'tsx/esm/api'

register()
await import('./worker.ts')
